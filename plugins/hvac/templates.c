/*
 * Default prompt templates of the hvac plugin: the paper's wording (arXiv 2308.03028,
 * Figure 2). Views are the plugin's context (see hvac.c); numbers arrive formatted by the
 * library's translator, actions scaled by the params_doc's action_scale (100).
 */
#include "config.h"

#include <string.h>

#include "templates.h"

static const struct {
    const char *component, *text;
} templates[] = {
    {"objective",
     "You are an HVAC administrator. Your primary objective is to fine-tune the actions to "
     "maintain the temperature in each room close to the target temperature, while maximizing "
     "the rewards as much as possible."},
    {"meta",
     "The following is a building of type {{building}} located in {{city}}, where the climate "
     "is {{weather}}."},
    {"instruction",
     "{{#heating}}The outside temperature is lower than the target temperature, so the rooms "
     "need heating. The actions are a list of {{n_rooms}} integers from 0 to 100, one for each "
     "room in the order of the rooms. If the temperature of a room is higher than the target "
     "temperature, the larger the difference, the lower its action should be. If the "
     "temperature of a room is lower than the target temperature, the larger the difference, "
     "the higher its action should be.{{/heating}}"
     "{{#cooling}}The outside temperature is higher than the target temperature, so the rooms "
     "need cooling. The actions are a list of {{n_rooms}} integers from -100 to 0, one for each "
     "room in the order of the rooms. If the temperature of a room is higher than the target "
     "temperature, the larger the difference, the lower its action should be. If the "
     "temperature of a room is lower than the target temperature, the larger the difference, "
     "the higher its action should be.{{/cooling}}"},
    {"state",
     "The building has {{n_rooms}} rooms in total. Currently, temperature in each room is as "
     "follows:\n"
     "{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}"
     "The external climate conditions are as follows:\n"
     "Outside Temperature: {{outdoor_temperature}} degrees Celsius.\n"
     "Global Horizontal Irradiance: {{ghi}}.\n"
     "Ground Temperature: {{ground_temperature}} degrees Celsius.\n"
     "Occupant Power: {{occupant_power}} KW.\n"
     "Target Temperature: {{target}} degrees Celsius."},
    {"action", "{{actions_text}}"},
    {"feedback",
     "The reward is {{reward}}. After the actions, the temperature in each room is as "
     "follows:\n"
     "{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}"},
    {"comments",
     "{{#rooms}}{{#below_target}}The action for {{name}} shall be increased as its temperature "
     "is lower than the target temperature.\n{{/below_target}}"
     "{{#above_target}}The action for {{name}} shall be decreased as its temperature is higher "
     "than the target temperature.\n{{/above_target}}{{/rooms}}"},
};

const char *hvac_template_text(const char *component)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].component, component) == 0)
            return templates[i].text;
    return NULL;
}
