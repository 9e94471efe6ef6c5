from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ customer.custom_fields|get_item:"vip_level" }}``: a dict value by a variable key."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None
