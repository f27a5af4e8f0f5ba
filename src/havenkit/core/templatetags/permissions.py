"""``{% can "action" obj as allowed %}``: templates ask the permissions module, never decide."""

from typing import Any

from django import template

from havenkit.core import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, obj: Any = None) -> bool:
    return permissions.can(context["request"].user, action, obj)
