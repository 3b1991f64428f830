"""The values a new tenant's lists start with, drawn from the demo data and the seeds.

Codes of tiers and channels are the ones the intake API has always accepted; regions,
industries and product lines use the names the demo organisation and its reps carry.
Each entry: (code, Chinese label, English label, synonyms).
"""
from ..models import VocabularyKind

DEFAULT_VOCABULARIES: dict[str, list[tuple[str, str, str, list[str]]]] = {
    VocabularyKind.REGION: [
        ("华东区", "华东区", "East China", ["华东", "East", "华东地区"]),
        ("华北区", "华北区", "North China", ["华北", "North", "华北地区"]),
        ("华南区", "华南区", "South China", ["华南", "South", "华南地区"]),
        ("西南区", "西南区", "Southwest China", ["西南", "Southwest", "西南地区"]),
        ("华中区", "华中区", "Central China", ["华中", "Central", "华中地区"]),
        ("西北区", "西北区", "Northwest China", ["西北", "Northwest", "西北地区"]),
        ("东北区", "东北区", "Northeast China", ["东北", "Northeast", "东北地区"]),
    ],
    VocabularyKind.INDUSTRY: [
        ("医疗器械", "医疗器械", "Medical devices", ["医疗", "医疗设备", "medical"]),
        ("工业零部件", "工业零部件", "Industrial components", ["工业", "零部件", "industrial"]),
        ("SaaS软件", "SaaS软件", "SaaS software", ["SaaS", "软件", "software"]),
        ("快消分销", "快消分销", "FMCG distribution", ["快消", "FMCG"]),
    ],
    VocabularyKind.PRODUCT_LINE: [
        ("影像设备", "影像设备", "Imaging equipment", ["影像", "imaging"]),
        ("检验试剂", "检验试剂", "Diagnostic reagents", ["试剂", "reagents"]),
        ("手术耗材", "手术耗材", "Surgical consumables", ["耗材", "consumables"]),
        ("液压件", "液压件", "Hydraulic parts", ["hydraulics"]),
        ("传动件", "传动件", "Transmission parts", ["transmission"]),
        ("密封件", "密封件", "Seals", ["seal"]),
        ("CRM套件", "CRM套件", "CRM suite", ["CRM"]),
        ("数据平台", "数据平台", "Data platform", ["data"]),
        ("饮料", "饮料", "Beverages", ["drinks"]),
        ("日化", "日化", "Household chemicals", ["日用化学品"]),
    ],
    VocabularyKind.TIER: [
        ("tertiary_hospital", "三甲医院", "Tertiary hospital", ["三级医院", "三甲", "三级甲等医院"]),
        ("secondary_hospital", "二级医院", "Secondary hospital", ["二甲医院", "二级"]),
        ("township_clinic", "乡镇卫生院", "Township clinic", ["卫生院", "乡镇医院", "社区卫生服务中心"]),
        ("key_account", "大客户企业", "Key account enterprise", ["重点客户", "集团客户", "KA", "大客户"]),
        ("sme", "中小企业", "Small or mid-size business", ["中型企业", "小微企业", "SMB"]),
    ],
    VocabularyKind.CHANNEL: [
        ("web_form", "网页表单", "Web form", ["官网", "官网表单", "website"]),
        ("api", "API", "API", ["接口"]),
        ("ad_platform", "广告平台", "Ad platform", ["广告", "信息流", "ads"]),
        ("phone_400", "400 电话", "400 phone line", ["400", "400电话", "电话呼入"]),
        ("wecom", "企业微信", "WeCom", ["企微", "WeChat Work"]),
        ("csv", "CSV 导入", "CSV import", ["导入", "import"]),
        ("manual", "手工录入", "Manual entry", ["手工", "手动录入"]),
        ("referral", "转介绍", "Referral", ["介绍", "老客户转介绍"]),
        ("exhibition", "展会", "Exhibition", ["展会扫码", "trade show"]),
    ],
}

def default_entries_missing(model, existing: set[tuple[str, str]]) -> list:
    """Unsaved `model` rows (the real or a migration's historical model) for each default value
    whose (kind, code) is not in `existing`."""
    return [
        model(kind=kind, code=code, label_zh=zh, label_en=en, synonyms=synonyms, position=(number + 1) * 10)
        for kind, values in DEFAULT_VOCABULARIES.items()
        for number, (code, zh, en, synonyms) in enumerate(values)
        if (kind, code) not in existing
    ]


# Channels the software itself assigns (intake through the API, the web form, an import, a
# person): relabel them freely, but they stay.
SYSTEM_CHANNELS = ("web_form", "api", "csv", "manual")
