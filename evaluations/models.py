# Models arrive with the evaluations issue; the app is installed now so its routes,
# admin and tests have a place to land.
