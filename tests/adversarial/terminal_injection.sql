-- a comment that clears the screen [2J and rings 
CREATE INDEX "evil]8;;http://xlink‮" ON "patients⁦" (a);
CREATE TABLE "a`<img src=x onerror=alert(1)>" (id int, b_id bigint REFERENCES "a`<img src=x onerror=alert(1)>" (id));
