"""The process core that the command line, the runner and the control room share.

``project`` (where processes, robots and city data live), ``config`` (a city robot's configuration),
``catalogue`` (processes, owners, versions, adoptions), ``runner`` (``rathaus run``), ``results`` (what a run
did, as data) and ``packaging`` (``rathaus package``). No Robot Framework keywords live here: the keyword
library ``rathaus.Process`` builds on this package.
"""
