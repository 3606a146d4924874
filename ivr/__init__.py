"""IVR feature package: menus, caller identification, self-service and survey over FastAGI."""
