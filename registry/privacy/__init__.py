"""The privacy officer's pages (role auditor): the Logboek, the audit log searched and its chain checked."""
