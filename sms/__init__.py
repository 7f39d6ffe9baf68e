"""The SMS line: texts in (intake, status, survey answers, STOP/START/HELP) and their replies."""
