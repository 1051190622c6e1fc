// The documents' reader in the evaluation room (web/js/reader.js): each key with its zh-CN
// text first, then English.
export default {
  'reader.open': ['阅读', 'Read'],
  'reader.download': ['下载', 'Download'],
  'reader.close': ['关闭', 'Close'],
  'reader.page': ['第 {n} / {total} 页', 'Page {n} of {total}'],
  'reader.prev': ['上一页', 'Previous'],
  'reader.next': ['下一页', 'Next'],
  'reader.goto': ['跳至页', 'Go to page'],
  'reader.search': ['在文件中搜索', 'Search the document'],
  'reader.search_go': ['搜索', 'Search'],
  'reader.hits': ['找到 {n} 处', '{n} found'],
  'reader.no_hits': ['没有找到', 'Not found'],
  'reader.hit_page': ['第 {n} 页', 'Page {n}'],
  'reader.loading': ['正在打开…', 'Opening…'],
  'reader.rendering': ['正在显示第 {n} 页…', 'Showing page {n}…'],
  'reader.note': ['文件在页面中阅读，不下载到本机；每次打开都会记录。', 'Documents are read in the page, not downloaded; each opening is logged.'],
  'reader.reads': ['文件阅读记录', 'Documents opened'],
  'reader.reads_none': ['还没有人打开文件', 'No document opened yet'],
  'reader.reader_seat': ['第 {n} 席', 'Seat {n}'],
};
