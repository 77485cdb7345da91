from django.urls import path

from . import privacy_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.account, name="account"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/", views.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/envoye/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("mot-de-passe/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("mot-de-passe/enregistre/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("jetons/", views.token_create, name="token_create"),
    path("jetons/<int:pk>/revoquer/", views.token_revoke, name="token_revoke"),
    path("mes-donnees/", privacy_views.my_data, name="my_data"),
    path("mes-donnees/telecharger/", privacy_views.my_data_download, name="my_data_download"),
    path("mes-donnees/supprimer/", privacy_views.my_data_erase, name="my_data_erase"),
]
