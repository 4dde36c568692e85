DROP TABLE guest_dosing_releases;
