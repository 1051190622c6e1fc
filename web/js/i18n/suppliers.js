// Supplier sign-up and the credit commitment (register.html, commitment.html, the
// supplier's dashboard banner): each key with its zh-CN text first and its English second.

export default {
  'signup.title': ['供应商注册', 'Supplier sign-up'],
  'signup.lead': ['在线注册，无需提交纸质材料：填写单位信息与统一社会信用代码，登录后用本设备的密钥签署信用承诺书即可投标。', 'Sign up online, no paper: enter your organisation and its unified social credit code, then sign the credit commitment with this device\u2019s key and bid.'],
  'signup.prompt': ['供应商还没有账号？', 'A supplier without an account?'],
  'signup.link': ['在线注册', 'Sign up online'],
  'signup.org': ['单位信息', 'Organisation'],
  'signup.name': ['单位名称', 'Name'],
  'signup.credit_code': ['统一社会信用代码', 'Unified social credit code'],
  'signup.size': ['企业规模', 'Enterprise size'],
  'signup.special': ['特殊主体', 'Special status'],
  'signup.special_none': ['无', 'None'],
  'signup.special_prison': ['监狱企业', 'Prison enterprise'],
  'signup.special_welfare': ['残疾人福利性单位', 'Welfare unit for the disabled'],
  'signup.account': ['登录账号', 'Account'],
  'signup.display_name': ['联系人姓名', 'Contact name'],
  'signup.submit': ['注册', 'Sign up'],

  'commitment.title': ['信用承诺书', 'Credit commitment'],
  'commitment.lead': ['以承诺代替纸质证明材料：用本设备上的签名密钥签署，签署后即可在线投标。', 'A signed commitment instead of paper certificates: sign it with this device\u2019s signing key, then bid online.'],
  'commitment.welcome': ['注册成功。请阅读并签署信用承诺书。', 'Signed up. Read and sign the credit commitment.'],
  'commitment.agree': ['本单位已阅读并如实作出以上承诺', 'We have read the above and declare it truthfully'],
  'commitment.key_note': ['签署使用本浏览器中的签名密钥（如无则现在生成并登记）；私钥不离开本设备。', 'Signed with this browser\u2019s signing key (made and registered now if there is none); the private key never leaves this device.'],
  'commitment.sign': ['签署承诺书', 'Sign the commitment'],
  'commitment.signing': ['签署中…', 'Signing…'],
  'commitment.signed': ['已于 {at} 签署。', 'Signed on {at}.'],
  'commitment.to_notices': ['查看采购公告', 'See the notices'],
  'commitment.supplier_only': ['只有供应商需要签署信用承诺书。', 'Only suppliers sign the credit commitment.'],
  'commitment.needed': ['投标前请先签署信用承诺书。', 'Sign the credit commitment before you bid.'],
  'commitment.sign_now': ['去签署', 'Sign now'],
};
