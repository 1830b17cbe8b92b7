"""Running crawls on a server: Scrapyd's HTTP API (``scrapyd_api``), the
locked-down Scrapyd launcher (``scrapyd_launcher``), the schedule file
(``schedules``) and the scheduler that drives ``schedule.json`` from it
(``runner``).  ``cli`` wires them to ``soundscraping schedule`` and
``soundscraping scrapyd``."""
