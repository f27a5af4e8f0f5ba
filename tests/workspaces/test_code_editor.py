"""The highlighting code editor is an addition to the plain textarea, never a replacement.

The page works with JavaScript off: the textarea and its label are in the HTML and are what
the form submits. The editor's module, and every library it imports, is served from our own
static files, so it works on a closed network and without a build step.
"""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from pytest_django.asserts import assertContains

from havenkit.workspaces import services

pytestmark = pytest.mark.django_db

EDITOR_MODULE = "workspaces/code-editor.js"


def _code_page(signed_in_client, researcher, project, name: str):
    code_file = services.save_code_file(project, name, "print(1 < 2)\n", researcher).code_file
    client = signed_in_client(person=researcher)
    return client.get(reverse("workspaces:code_file", args=[project.pk, code_file.pk]))


def _assert_loads_the_editor_over_the_labelled_textarea(response) -> None:
    assertContains(
        response, f'<script type="module" src="/static/{EDITOR_MODULE}"></script>', html=True
    )
    assertContains(response, 'href="/static/workspaces/code-editor.css"')
    assertContains(response, '<label class="nhsuk-label" for="id_code">Code</label>', html=True)
    assertContains(response, 'name="code"')


@pytest.mark.parametrize("name", ["analysis.py", "model.R"])
def test_the_code_file_page_loads_the_editor_and_keeps_the_labelled_textarea(
    signed_in_client, researcher, project, name
):
    response = _code_page(signed_in_client, researcher, project, name)
    _assert_loads_the_editor_over_the_labelled_textarea(response)
    assertContains(response, f'data-code-editor data-file-name="{name}"')
    assertContains(response, "print(1 &lt; 2)\n</textarea>")


def test_the_new_code_file_form_loads_the_same_editor_following_the_name_field(
    signed_in_client, researcher, project
):
    client = signed_in_client(person=researcher)
    response = client.get(reverse("workspaces:workspace", args=[project.pk]))
    _assert_loads_the_editor_over_the_labelled_textarea(response)
    # The language comes from whatever is typed in the name field, so the form names that field.
    assertContains(response, 'data-code-editor data-file-name-field="id_name"')
    assertContains(
        response, '<label class="nhsuk-label" for="id_name">File name</label>', html=True
    )
    assertContains(response, 'name="upload"')


def test_a_failed_new_code_file_keeps_the_typed_code_in_the_textarea(
    signed_in_client, researcher, project
):
    """The editor starts from the textarea, so code typed before an error is not lost."""
    client = signed_in_client(person=researcher)
    url = reverse("workspaces:workspace", args=[project.pk])
    response = client.post(url, {"name": "../escape.R", "code": "x <- 1 < 2\n"})
    assertContains(response, "is not a valid file name", status_code=400)
    assertContains(response, "x &lt;- 1 &lt; 2\n</textarea>", status_code=400)


def test_the_editor_module_and_each_library_it_imports_are_static_files():
    module = finders.find(EDITOR_MODULE)
    assert module is not None
    imports = re.findall(r'^import .* from "(\.\./[^"]+)";$', Path(module).read_text(), re.M)
    assert len(imports) == 4
    for relative in imports:
        path = relative.removeprefix("../")
        assert finders.find(path) is not None, f"{path} is not served as a static file"
