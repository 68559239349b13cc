from campus.kernel.i18n import _
from campus.kernel.manifest import Module
from campus.platform.files import handlers, routes
from campus.platform.files.permissions import PERMISSIONS

MODULE = Module(
    name="files",
    title=_("文件服务"),
    package="campus.platform.files",
    depends=("users", "access"),
    routers=(routes.router,),
    permissions=PERMISSIONS,
    jobs=(handlers.SWEEP,),
)
