urlpatterns: list = []  # educator pages: cohorts, analytics, engine runs, exports
