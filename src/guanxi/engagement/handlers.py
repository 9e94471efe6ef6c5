"""Reactions to model deletions: an attachment's file goes when its row goes (an interaction deleted, a customer
erased, a cascade), and only once that transaction commits."""

from guanxi.engagement import services


def on_attachment_deleted(sender, instance, **kwargs) -> None:
    services.delete_file_after_commit(instance.file.storage, instance.file.name)
