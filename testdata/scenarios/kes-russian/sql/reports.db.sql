-- reports.db of KES on MSK-WS017 (scenario kes-russian). Kaspersky's schema is not public
-- (reference 2.1.1): these tables are invented; kavtrace only lists them, dated by the
-- file's $SI modified time.
PRAGMA page_size = 4096;
PRAGMA journal_mode = DELETE;
CREATE TABLE events (Id INTEGER PRIMARY KEY, Task INTEGER, Type INTEGER, Data BLOB);
CREATE TABLE tasks (Id INTEGER PRIMARY KEY, Name TEXT);
INSERT INTO tasks VALUES (1, 'Update'), (2, 'Scan_My_Computer');
INSERT INTO events VALUES (1, 1, 7, NULL), (2, 1, 7, NULL), (3, 2, 4, NULL);
