/*
 * Default prompt templates of the hvac plugin: the paper's wording (arXiv 2308.03028,
 * Figure 2), component by component; what the paper does not show (the cooling guidelines,
 * line breaks) is documented in fewshot-hvac(7). Views are the plugin's context (see hvac.c); numbers arrive formatted by the
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
     "You are the HVAC administrator responsible for managing a building of type {{building}} "
     "located in {{city}}, where the climate is {{weather}}."},
    /* guideline 1 names the range the mode allows (the context's action_range) and the kind
     * of number shown, so the decimals ablation changes its wording with the numbers */
    {"instruction",
     "{{#heating}}Currently, outside temperature is lower than the target temperature. To "
     "optimize HVAC control, adhere to the following guidelines:\n"
     "1. Actions should be represented as a list, with each {{#integers}}integer value"
     "{{/integers}}{{^integers}}value a {{number_words}}{{/integers}} ranging from "
     "{{action_low}} to {{action_high}}.\n"
     "2. The length of the actions list should correspond to the number of rooms, arranged in "
     "the same order.\n"
     "3. If room temperature is higher than the target temperature, the larger the difference "
     "between room temperature and the target temperature, the lower the action should be.\n"
     "4. If room temperature is lower than the target temperature, the larger the difference "
     "between room temperature and the target temperature, the higher the action should be."
     "{{/heating}}"
     "{{#cooling}}Currently, outside temperature is higher than the target temperature. To "
     "optimize HVAC control, adhere to the following guidelines:\n"
     "1. Actions should be represented as a list, with each {{#integers}}integer value"
     "{{/integers}}{{^integers}}value a {{number_words}}{{/integers}} ranging from "
     "{{action_low}} to {{action_high}}.\n"
     "2. The length of the actions list should correspond to the number of rooms, arranged in "
     "the same order.\n"
     "3. If room temperature is lower than the target temperature, the larger the difference "
     "between room temperature and the target temperature, the higher the action should be "
     "(closer to 0).\n"
     "4. If room temperature is higher than the target temperature, the larger the difference "
     "between room temperature and the target temperature, the lower the action should be "
     "(closer to {{action_low}})."
     "{{/cooling}}"},
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
    /* the paper's feedback after the generator's "Reward:" and "Actions:" lines: the
     * temperatures the actions led to, then (the comments component) one line per room off
     * target */
    {"feedback",
     "Comments: After taking the above actions, temperature in each room becomes:\n"
     "{{#rooms}}{{name}}: {{temperature}} degree Celsius\n{{/rooms}}"},
    {"comments",
     "{{#rooms}}{{#below_target}}The action for {{name}} shall be increased as its temperature "
     "is lower than the target temperature.\n{{/below_target}}"
     "{{#above_target}}The action for {{name}} shall be decreased as its temperature is higher "
     "than the target temperature.\n{{/above_target}}{{/rooms}}"},
    /* the history as turns: the next question states the temperatures the actions led to,
     * so the outcome keeps the reward and the comments without listing them again */
    {"outcome",
     "{{#has_feedback}}Reward: {{reward}}\n{{/has_feedback}}{{#comments}}{{{comments}}}\n"
     "{{/comments}}"},
    {"current",
     "Please decide opening of the valve in each room based on the following description:\n"
     "Description: {{{description}}}"},
};

const char *hvac_template_text(const char *component)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].component, component) == 0)
            return templates[i].text;
    return NULL;
}
