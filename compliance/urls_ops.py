"""Ops console pages of compliance (mounted under /ops/ in the `ops` namespace)."""

from django.urls import path

from compliance import views_ops

urlpatterns = [
    path("compliance/chains/", views_ops.chains, name="compliance-chains"),
    path("compliance/chains/verify", views_ops.chains_verify, name="compliance-chains-verify"),
]
