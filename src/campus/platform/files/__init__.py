"""文件服务 — the file service: uploaded files (attachments of forms, documents), who uploaded them,
and which object of another module each one is bound to. The bytes live in the kernel's storage,
addressed by their SHA-256."""
