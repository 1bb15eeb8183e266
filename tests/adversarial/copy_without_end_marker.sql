CREATE TABLE t (id bigint PRIMARY KEY, a text);
COPY t (id, a) FROM stdin;
1	x
2	y
