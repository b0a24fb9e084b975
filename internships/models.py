# Models arrive with the internships issue; the app is installed now so its routes,
# admin and tests have a place to land.
