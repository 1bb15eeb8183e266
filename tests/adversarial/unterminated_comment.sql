CREATE TABLE t (id bigint PRIMARY KEY);
CREATE INDEX i ON t (id);
/* this comment never ends;
DROP TABLE t;
