"""CAS 3.0 server of the authentication center: /cas/login, /cas/logout, ticket validation
(CAS 1.0, 2.0 and 3.0 with attributes), proxy tickets, back-channel single logout and the
registry of the services allowed to use it."""
