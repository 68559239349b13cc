from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.web.portal import pages

MODULE = Module(
    name="portal",
    title=_("门户"),
    package="campus.web.portal",
    depends=("auth",),
    pages=(pages.router,),
    menu=(MenuEntry(_("首页"), "/", icon="home", order=0),),
)
