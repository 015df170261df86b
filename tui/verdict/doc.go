// Package verdict draws the checker's pane: the live verdict, the anomalies and invariant
// violations counted by name, the findings as a selectable list, and the selected finding's
// explanation with the operations it names (client, type, partition, times, outcome, values,
// offsets). The verdict is marked by glyph and word, never by colour alone.
package verdict
