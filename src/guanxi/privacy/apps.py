from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """GDPR / PIPL: export and erasure of a customer's personal data, per-channel consent, profiling opt-out."""

    name = "guanxi.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from guanxi.privacy import registrations

        registrations.register()
