app_name = "outputs"

urlpatterns: list = []
