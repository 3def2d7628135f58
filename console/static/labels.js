/* Chinese labels for the alert desk's codes (staff UI only). */
window.Labels = {
  status: { received: "已接收", queued: "排队中", sent: "已推送", delivered: "已送达", answered: "已回复",
            safe: "已确认安全", paid: "已转账", urgent: "紧急", escalated: "已升级", closed: "已结案", failed: "推送失败",
            warned: "已推送", unregistered: "号码未绑定" },
  fraud: {"shuadan": "刷单返利", "investment": "虚假网络投资理财（含杀猪盘）", "loan_credit": "虚假网络贷款 / 征信诈骗", "ecommerce_cs": "冒充电商物流客服", "police": "冒充公检法", "boss_acquaintance": "冒充领导、熟人", "shopping": "虚假购物服务", "game_trade": "网络游戏产品虚假交易", "romance": "网络婚恋交友", "flight": "机票退改签", "phishing_link": "仿冒ETC/医保/社保/积分兑换链接", "other": "其他诈骗"},
  answer: { safe: "安全", paid: "已转账" },
  reason: { paid: "已转账", unanswered: "超时未回复", unregistered_high_risk: "未绑定·高风险", safe: "安全" },
  outcome: { reached_safe: "已联系·安全", reached_paid: "已联系·已被骗", wrong_number: "号码有误",
             no_answer: "无人接听", call_again: "稍后再拨" },
  event: { received: "收到预警", queued: "进入推送队列", sent: "已推送", delivered: "已送达", answered: "市民回复",
           escalated: "升级", case_opened: "开立紧急案件", callback_queued: "进入回拨队列", callback: "回拨",
           checklist: "止付清单", closed: "结案", officer_notified: "通知民警", failed: "推送失败",
           officer_unreachable: "民警未绑定微信，未能通知", late_answer: "结案后回复", unregistered: "号码未绑定",
           recipient_unfollowed: "收件人已取关", send_failed: "推送失败", send_unknown: "推送结果未知",
           send_unconfirmed: "推送未确认", resend_unconfirmed: "重发未确认" },
  t: function (group, code) { return (window.Labels[group] || {})[code] || code; }
};
