"""Reference data of the demo university: colleges and majors with their codes in the
普通高等学校本科专业目录, offices, and the national code lists a person record uses
(GB/T 2260 regions, GB/T 3304 ethnic groups, GB/T 4762 political status)."""

from __future__ import annotations

from dataclasses import dataclass

UNIVERSITY_CODE = "10000"
UNIVERSITY_NAME = "演示大学"
STUDENT_MAIL_DOMAIN = "stu.demo.edu.cn"
STAFF_MAIL_DOMAIN = "demo.edu.cn"


@dataclass(frozen=True)
class Major:
    code: str  # discipline code of the undergraduate catalogue, e.g. 080901
    name: str
    years: int = 4  # length of the undergraduate programme
    graduate: bool = False  # the major also runs a master's programme


@dataclass(frozen=True)
class College:
    code: str  # two digits, part of every student number of the college
    name: str
    majors: tuple[Major, ...]


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    head_title: str


def _m(code: str, name: str, years: int = 4, graduate: bool = False) -> Major:
    return Major(code, name, years, graduate)


COLLEGES: tuple[College, ...] = (
    College(
        "01",
        "文学院",
        (
            _m("050101", "汉语言文学", graduate=True),
            _m("050103", "汉语国际教育"),
            _m("060101", "历史学", graduate=True),
            _m("010101", "哲学"),
        ),
    ),
    College(
        "02",
        "外国语学院",
        (
            _m("050201", "英语", graduate=True),
            _m("050207", "日语"),
            _m("050261", "翻译"),
            _m("050262", "商务英语"),
        ),
    ),
    College(
        "03",
        "新闻与传播学院",
        (
            _m("050301", "新闻学", graduate=True),
            _m("050302", "广播电视学"),
            _m("050303", "广告学"),
        ),
    ),
    College(
        "04",
        "经济与金融学院",
        (
            _m("020101", "经济学", graduate=True),
            _m("020201K", "财政学"),
            _m("020401", "国际经济与贸易"),
            _m("020301K", "金融学", graduate=True),
            _m("020302", "金融工程"),
        ),
    ),
    College(
        "05",
        "法学院",
        (
            _m("030101K", "法学", graduate=True),
            _m("030201", "政治学与行政学"),
            _m("030302", "社会工作"),
            _m("030503", "思想政治教育"),
        ),
    ),
    College(
        "06",
        "教育学院",
        (
            _m("040101", "教育学", graduate=True),
            _m("040106", "学前教育"),
            _m("040107", "小学教育"),
            _m("071102", "应用心理学"),
        ),
    ),
    College(
        "07",
        "数学与统计学院",
        (
            _m("070101", "数学与应用数学", graduate=True),
            _m("070102", "信息与计算科学"),
            _m("071201", "统计学", graduate=True),
        ),
    ),
    College(
        "08",
        "物理与电子工程学院",
        (
            _m("070201", "物理学", graduate=True),
            _m("080705", "光电信息科学与工程"),
            _m("080702", "电子科学与技术"),
        ),
    ),
    College(
        "09",
        "化学与生命科学学院",
        (
            _m("070301", "化学", graduate=True),
            _m("070302", "应用化学"),
            _m("071001", "生物科学", graduate=True),
            _m("071002", "生物技术"),
        ),
    ),
    College(
        "10",
        "机械与车辆工程学院",
        (
            _m("080202", "机械设计制造及其自动化", graduate=True),
            _m("080204", "机械电子工程"),
            _m("080207", "车辆工程"),
            _m("080401", "材料科学与工程"),
        ),
    ),
    College(
        "11",
        "电气与信息工程学院",
        (
            _m("080601", "电气工程及其自动化", graduate=True),
            _m("080701", "电子信息工程"),
            _m("080703", "通信工程", graduate=True),
            _m("080801", "自动化"),
        ),
    ),
    College(
        "12",
        "计算机科学与技术学院",
        (
            _m("080901", "计算机科学与技术", graduate=True),
            _m("080902", "软件工程", graduate=True),
            _m("080903", "网络工程"),
            _m("080904K", "信息安全"),
            _m("080910T", "数据科学与大数据技术"),
            _m("080717T", "人工智能"),
        ),
    ),
    College(
        "13",
        "土木与建筑学院",
        (
            _m("081001", "土木工程", graduate=True),
            _m("082801", "建筑学", years=5),
            _m("082802", "城乡规划", years=5),
            _m("120105", "工程造价"),
        ),
    ),
    College(
        "14",
        "管理学院",
        (
            _m("120201K", "工商管理", graduate=True),
            _m("120203K", "会计学", graduate=True),
            _m("120204", "财务管理"),
            _m("120206", "人力资源管理"),
            _m("120102", "信息管理与信息系统"),
            _m("120801", "电子商务"),
        ),
    ),
    College(
        "15",
        "医学院",
        (
            _m("100201K", "临床医学", years=5, graduate=True),
            _m("100701", "药学"),
            _m("101101", "护理学", graduate=True),
        ),
    ),
    College(
        "16",
        "艺术学院",
        (
            _m("130202", "音乐学"),
            _m("130401", "美术学", graduate=True),
            _m("130502", "视觉传达设计"),
            _m("130503", "环境设计"),
        ),
    ),
    College(
        "17",
        "体育学院",
        (
            _m("040201", "体育教育", graduate=True),
            _m("040203", "社会体育指导与管理"),
        ),
    ),
)

OFFICES: tuple[Office, ...] = (
    Office("801", "党委办公室", "主任"),
    Office("802", "校长办公室", "主任"),
    Office("803", "教务处", "处长"),
    Office("804", "学生工作处", "处长"),
    Office("805", "研究生院", "常务副院长"),
    Office("806", "科学研究院", "院长"),
    Office("807", "人事处", "处长"),
    Office("808", "财务处", "处长"),
    Office("809", "国有资产管理处", "处长"),
    Office("810", "后勤保障处", "处长"),
    Office("811", "保卫处", "处长"),
    Office("812", "国际合作与交流处", "处长"),
    Office("813", "招生就业处", "处长"),
    Office("814", "图书馆", "馆长"),
    Office("815", "信息化建设与管理中心", "主任"),
    Office("816", "校医院", "院长"),
)

HOME_PROVINCE = "42"  # 湖北: the demo university stands in 武汉, most students come from nearby

# GB/T 2260 county-level codes (a sample of real ones).
REGIONS: dict[str, str] = {
    "420102": "湖北省武汉市江岸区",
    "420103": "湖北省武汉市江汉区",
    "420106": "湖北省武汉市武昌区",
    "420111": "湖北省武汉市洪山区",
    "420281": "湖北省黄石市大冶市",
    "420502": "湖北省宜昌市西陵区",
    "420602": "湖北省襄阳市襄城区",
    "420984": "湖北省孝感市汉川市",
    "421002": "湖北省荆州市沙市区",
    "421181": "湖北省黄冈市麻城市",
    "110101": "北京市东城区",
    "110102": "北京市西城区",
    "110105": "北京市朝阳区",
    "110108": "北京市海淀区",
    "120101": "天津市和平区",
    "120104": "天津市南开区",
    "130102": "河北省石家庄市长安区",
    "140105": "山西省太原市小店区",
    "150102": "内蒙古自治区呼和浩特市新城区",
    "210102": "辽宁省沈阳市和平区",
    "210202": "辽宁省大连市中山区",
    "220102": "吉林省长春市南关区",
    "230103": "黑龙江省哈尔滨市南岗区",
    "310101": "上海市黄浦区",
    "310104": "上海市徐汇区",
    "310115": "上海市浦东新区",
    "320102": "江苏省南京市玄武区",
    "320583": "江苏省苏州市昆山市",
    "320582": "江苏省苏州市张家港市",
    "330106": "浙江省杭州市西湖区",
    "330282": "浙江省宁波市慈溪市",
    "330681": "浙江省绍兴市诸暨市",
    "340104": "安徽省合肥市蜀山区",
    "350203": "福建省厦门市思明区",
    "350582": "福建省泉州市晋江市",
    "360102": "江西省南昌市东湖区",
    "360681": "江西省鹰潭市贵溪市",
    "370102": "山东省济南市历下区",
    "370202": "山东省青岛市市南区",
    "370481": "山东省枣庄市滕州市",
    "410105": "河南省郑州市金水区",
    "410181": "河南省郑州市巩义市",
    "410302": "河南省洛阳市老城区",
    "430104": "湖南省长沙市岳麓区",
    "430181": "湖南省长沙市浏阳市",
    "430381": "湖南省湘潭市湘乡市",
    "440104": "广东省广州市越秀区",
    "440106": "广东省广州市天河区",
    "440305": "广东省深圳市南山区",
    "441781": "广东省阳江市阳春市",
    "450102": "广西壮族自治区南宁市兴宁区",
    "460105": "海南省海口市秀英区",
    "500103": "重庆市渝中区",
    "500106": "重庆市沙坪坝区",
    "510104": "四川省成都市锦江区",
    "510107": "四川省成都市武侯区",
    "510681": "四川省德阳市广汉市",
    "520102": "贵州省贵阳市南明区",
    "530102": "云南省昆明市五华区",
    "540102": "西藏自治区拉萨市城关区",
    "610103": "陕西省西安市碑林区",
    "610113": "陕西省西安市雁塔区",
    "620102": "甘肃省兰州市城关区",
    "630102": "青海省西宁市城东区",
    "640104": "宁夏回族自治区银川市兴庆区",
    "650102": "新疆维吾尔自治区乌鲁木齐市天山区",
}

# GB/T 3304 codes with their approximate share of the population (percent).
ETHNIC_GROUPS: dict[str, tuple[str, float]] = {
    "01": ("汉族", 91.1),
    "08": ("壮族", 1.4),
    "03": ("回族", 0.8),
    "05": ("维吾尔族", 0.8),
    "11": ("满族", 0.75),
    "06": ("苗族", 0.7),
    "07": ("彝族", 0.7),
    "15": ("土家族", 0.7),
    "04": ("藏族", 0.5),
    "02": ("蒙古族", 0.45),
    "12": ("侗族", 0.2),
    "09": ("布依族", 0.2),
    "13": ("瑶族", 0.2),
    "14": ("白族", 0.15),
    "10": ("朝鲜族", 0.13),
}

# GB/T 4762 political status.
POLITICAL_STATUS: dict[str, str] = {
    "01": "中国共产党党员",
    "02": "中国共产党预备党员",
    "03": "中国共产主义青年团团员",
    "04": "中国国民党革命委员会会员",
    "05": "中国民主同盟盟员",
    "06": "中国民主建国会会员",
    "07": "中国民主促进会会员",
    "08": "中国农工民主党党员",
    "09": "中国致公党党员",
    "10": "九三学社社员",
    "11": "台湾民主自治同盟盟员",
    "12": "无党派人士",
    "13": "群众",
}

# Mobile number prefixes of the three carriers.
MOBILE_PREFIXES: tuple[str, ...] = tuple(
    str(p)
    for p in (
        *range(130, 140),
        *(150, 151, 152, 153, 155, 156, 157, 158, 159),
        *(166, 173, 175, 176, 177, 178),
        *range(180, 190),
        *(191, 193, 195, 196, 197, 198, 199),
    )
)

# Given names common among people born after 2000 (Faker's list is of an older generation).
YOUNG_GIVEN_NAMES_MALE: tuple[str, ...] = (
    "浩然", "子轩", "宇轩", "浩宇", "梓豪", "俊熙", "一鸣", "子墨", "博文", "天佑",
    "明轩", "皓轩", "睿", "泽宇", "思远", "晨阳", "嘉懿", "铭", "逸飞", "昊天",
    "子健", "文博", "志远", "书豪", "嘉豪", "俊杰", "宇航", "一凡", "家豪", "梓睿",
)  # fmt: skip
YOUNG_GIVEN_NAMES_FEMALE: tuple[str, ...] = (
    "子涵", "梓萱", "欣怡", "诗涵", "雨欣", "可馨", "思彤", "一诺", "语嫣", "梦琪",
    "佳怡", "雨桐", "紫涵", "雅婷", "晓彤", "心怡", "若曦", "婧", "悦", "安琪",
    "思雨", "静怡", "嘉欣", "慧敏", "佳琪", "诗琪", "语桐", "欣然", "梓涵", "雨萱",
)  # fmt: skip

# English names of the demo university's units, as its transcripts and diplomas print them.
ENGLISH_NAMES: dict[str, str] = {
    UNIVERSITY_NAME: "Demo University",
    "文学院": "School of Liberal Arts",
    "汉语言文学": "Chinese Language and Literature",
    "汉语国际教育": "Teaching Chinese to Speakers of Other Languages",
    "历史学": "History",
    "哲学": "Philosophy",
    "外国语学院": "School of Foreign Languages",
    "英语": "English",
    "日语": "Japanese",
    "翻译": "Translation and Interpreting",
    "商务英语": "Business English",
    "新闻与传播学院": "School of Journalism and Communication",
    "新闻学": "Journalism",
    "广播电视学": "Radio and Television",
    "广告学": "Advertising",
    "经济与金融学院": "School of Economics and Finance",
    "经济学": "Economics",
    "财政学": "Public Finance",
    "国际经济与贸易": "International Economics and Trade",
    "金融学": "Finance",
    "金融工程": "Financial Engineering",
    "法学院": "School of Law",
    "法学": "Law",
    "政治学与行政学": "Political Science and Public Administration",
    "社会工作": "Social Work",
    "思想政治教育": "Ideological and Political Education",
    "教育学院": "School of Education",
    "教育学": "Education",
    "学前教育": "Preschool Education",
    "小学教育": "Primary Education",
    "应用心理学": "Applied Psychology",
    "数学与统计学院": "School of Mathematics and Statistics",
    "数学与应用数学": "Mathematics and Applied Mathematics",
    "信息与计算科学": "Information and Computing Science",
    "统计学": "Statistics",
    "物理与电子工程学院": "School of Physics and Electronic Engineering",
    "物理学": "Physics",
    "光电信息科学与工程": "Optoelectronic Information Science and Engineering",
    "电子科学与技术": "Electronic Science and Technology",
    "化学与生命科学学院": "School of Chemistry and Life Sciences",
    "化学": "Chemistry",
    "应用化学": "Applied Chemistry",
    "生物科学": "Biological Sciences",
    "生物技术": "Biotechnology",
    "机械与车辆工程学院": "School of Mechanical and Vehicle Engineering",
    "机械设计制造及其自动化": "Mechanical Design, Manufacturing and Automation",
    "机械电子工程": "Mechatronic Engineering",
    "车辆工程": "Vehicle Engineering",
    "材料科学与工程": "Materials Science and Engineering",
    "电气与信息工程学院": "School of Electrical and Information Engineering",
    "电气工程及其自动化": "Electrical Engineering and Automation",
    "电子信息工程": "Electronic Information Engineering",
    "通信工程": "Communication Engineering",
    "自动化": "Automation",
    "计算机科学与技术学院": "School of Computer Science and Technology",
    "计算机科学与技术": "Computer Science and Technology",
    "软件工程": "Software Engineering",
    "网络工程": "Network Engineering",
    "信息安全": "Information Security",
    "数据科学与大数据技术": "Data Science and Big Data Technology",
    "人工智能": "Artificial Intelligence",
    "土木与建筑学院": "School of Civil Engineering and Architecture",
    "土木工程": "Civil Engineering",
    "建筑学": "Architecture",
    "城乡规划": "Urban and Rural Planning",
    "工程造价": "Construction Cost Engineering",
    "管理学院": "School of Management",
    "工商管理": "Business Administration",
    "会计学": "Accounting",
    "财务管理": "Financial Management",
    "人力资源管理": "Human Resource Management",
    "信息管理与信息系统": "Information Management and Information Systems",
    "电子商务": "Electronic Commerce",
    "医学院": "School of Medicine",
    "临床医学": "Clinical Medicine",
    "药学": "Pharmacy",
    "护理学": "Nursing",
    "艺术学院": "School of Arts",
    "音乐学": "Musicology",
    "美术学": "Fine Arts",
    "视觉传达设计": "Visual Communication Design",
    "环境设计": "Environmental Design",
    "体育学院": "School of Physical Education",
    "体育教育": "Physical Education",
    "社会体育指导与管理": "Social Sports Guidance and Management",
    "党委办公室": "Office of the Party Committee",
    "校长办公室": "President's Office",
    "教务处": "Office of Academic Affairs",
    "学生工作处": "Office of Student Affairs",
    "研究生院": "Graduate School",
    "科学研究院": "Office of Scientific Research",
    "人事处": "Office of Human Resources",
    "财务处": "Office of Finance",
    "国有资产管理处": "Office of State-owned Assets Management",
    "后勤保障处": "Office of Logistics",
    "保卫处": "Office of Campus Security",
    "国际合作与交流处": "Office of International Cooperation and Exchange",
    "招生就业处": "Office of Admissions and Career Services",
    "图书馆": "Library",
    "信息化建设与管理中心": "Information Technology Center",
    "校医院": "University Hospital",
}
