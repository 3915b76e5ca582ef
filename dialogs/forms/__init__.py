"""Official forms: a submitted dossier rendered as the filled paper form (text and PDF).

One data-driven template per form in ``dialogs/forms/templates/<form-id>.yaml``;
the template names the procedures it serves. See :mod:`dialogs.forms.render`.
"""
from .render import FormError, has_form, render_pdf, render_text, template_for

__all__ = ["FormError", "has_form", "render_pdf", "render_text", "template_for"]
