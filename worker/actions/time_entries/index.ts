// Time entry actions. One import per action module.
import './createTimeEntry.ts';
