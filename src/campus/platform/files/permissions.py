"""Permission codes of the file service."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

# Download any file, whoever uploaded it (only a grant reaching the whole school counts: files
# belong to no org unit).
FILE_READ_ALL = "files.file.read_all"

PERMISSIONS = (Permission(FILE_READ_ALL, _("下载任何人上传的文件")),)
