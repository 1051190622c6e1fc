// Alerts (alerts.html and the unread badge in the header): each key with its zh-CN text
// first and its English second.

export default {
  'alerts.title': ['预警提示', 'Alerts'],
  'alerts.lead': ['临近截止、已到截止和逾期未办的事项：按法定工作日日历提前一个工作日提醒，逾期的升级提醒财政部门。', 'Deadlines coming, come and missed: you are told one working day ahead by the official calendar, and finance is told of those missed.'],
  'alerts.list': ['我的提醒', 'My alerts'],
  'alerts.filter': ['筛选提醒', 'Filter alerts'],
  'alerts.all': ['全部', 'All'],
  'alerts.unread_only': ['未读', 'Unread'],
  'alerts.empty': ['暂无提醒。', 'No alerts.'],
  'alerts.empty_hint': ['您负责的事项临近截止或到期时，会在这里提醒您。', 'When a deadline of yours comes near or arrives, it shows here.'],
  'alerts.empty_unread': ['没有未读提醒。', 'No unread alerts.'],
  'alerts.live': ['每 30 秒自动刷新。', 'Refreshed every 30 seconds.'],
  'alerts.mark_read': ['标为已读', 'Mark as read'],
  'alerts.marked': ['已标为已读', 'Marked as read'],
  'alerts.is_read': ['已读', 'Read'],
  'alerts.is_unread': ['未读', 'Unread'],
  'alerts.open': ['前往办理', 'Open'],
  'alerts.rule': ['依据 {code}', 'Rule {code}'],
  'alerts.sent': ['提醒于 {at}', 'Sent {at}'],
  'alerts.stage.upcoming': ['即将到期', 'Due soon'],
  'alerts.stage.due': ['已到期', 'Due'],
  'alerts.stage.overdue': ['逾期升级', 'Overdue, escalated'],
  'alerts.badge': ['预警提示', 'Alerts'],
  'alerts.badge_unread': ['预警提示：{n} 条未读', 'Alerts: {n} unread'],
};
