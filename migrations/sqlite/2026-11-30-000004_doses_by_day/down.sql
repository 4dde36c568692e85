DROP INDEX doses_by_day;
