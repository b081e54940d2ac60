-- detects.db of KES on MSK-WS017 (scenario kes-russian): the schema armadito-agent reads
-- (reference 2.1.1: detects(Id, Threat, Time), threats, verdicts, objects); Time is a
-- FILETIME. The two detections are those of the KES event log.
-- 133306190421875000 = 2023-06-07T13:44:02.1875Z; 133764180123906250 = 2024-11-18T15:40:12.390625Z
PRAGMA page_size = 4096;
PRAGMA journal_mode = DELETE;
CREATE TABLE objects (Id INTEGER PRIMARY KEY, Name TEXT);
CREATE TABLE verdicts (Id INTEGER PRIMARY KEY, Name TEXT, Danger INTEGER, Status INTEGER);
CREATE TABLE threats (Id INTEGER PRIMARY KEY, Object INTEGER, Verdict INTEGER, ScanAction INTEGER);
CREATE TABLE detects (Id INTEGER PRIMARY KEY, Threat INTEGER, Time INTEGER);
INSERT INTO objects VALUES (1, 'C:\Users\jdoe\Downloads\invoice_0607.zip//invoice.js');
INSERT INTO objects VALUES (2, 'C:\Users\jdoe\Downloads\eicar_com.zip//eicar.com');
INSERT INTO verdicts VALUES (1, 'HEUR:Trojan.Script.Generic', 2, 1);
INSERT INTO verdicts VALUES (2, 'EICAR-Test-File', 1, 1);
INSERT INTO threats VALUES (1, 1, 1, 1);
INSERT INTO threats VALUES (2, 2, 2, 1);
INSERT INTO detects VALUES (1, 1, 133306190421875000);
INSERT INTO detects VALUES (2, 2, 133764180123906250);
