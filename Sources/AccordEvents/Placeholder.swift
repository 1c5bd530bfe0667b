public enum AccordEventsPlaceholder {}
