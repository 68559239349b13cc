"""The developer platform (开发平台): developers' apps with their keys, subscriptions to the
services the gateway offers (approved by each service's owner where it is sensitive), usage and
quota, a try-it console, and services proposed by vendors for review."""
