DROP TABLE offline_incidents;
DROP TABLE offline_doses;
