/* hvac: the paper's default prompt templates (Mustache), by component name. */
#ifndef HVAC_TEMPLATES_H
#define HVAC_TEMPLATES_H

/* The template of a component ("objective", "meta", "instruction", "state", "action",
 * "feedback", "comments", "current"), or NULL. */
const char *hvac_template_text(const char *component);

#endif
