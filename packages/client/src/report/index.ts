export { type HtmlReportOptions, type HtmlSection, renderHtmlReport } from './renderHtmlReport.js';
export type { Cell as HtmlCell } from './html.js';
export { doctorSection } from './doctorSection.js';
