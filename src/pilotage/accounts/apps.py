from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pilotage.accounts"
    label = "accounts"
    verbose_name = "Comptes"
