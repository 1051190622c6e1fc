// 404 page: just the frame.
import { initLayout, setPageTitle } from '../layout.js';

setPageTitle('notfound.title');
initLayout();
