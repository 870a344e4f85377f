"""The domain's names, each defined once: forecast targets, death categories, the all-regions
location and the mixture scenario."""

TARGETS = ("cum_deaths", "cum_civilian_deaths", "displaced", "cum_displaced", "cum_refugees")
"""Forecast targets (hubverse ``target`` column):

* ``cum_deaths``: deaths of all actors since the episode start (people);
* ``cum_civilian_deaths``: civilian deaths since the episode start (people);
* ``displaced``: people currently displaced by this episode (stock, people);
* ``cum_displaced``: displacement movements since the episode start (flow, people; a person
  displaced twice counts twice, as in IDMC's internal-displacement counts);
* ``cum_refugees``: people from the episode's regions who crossed an international border since
  the episode start (flow, people; like ``cum_displaced``, a person who crosses twice counts
  twice). A refugee is displaced: each crossing is also a movement in ``cum_displaced``, and the
  person is in ``displaced`` until they return.
"""

CATEGORIES = ("civilian", "combatant")
"""Who died: the two categories the nowcast and the engine split deaths into."""
ALL = "all"
"""Location id for the sum over regions."""
MIXTURE = "mixture"
"""Scenario id of the weighted mixture of scenarios. One meaning everywhere: each Monte Carlo
draw of the mixture is the same draw of one scenario, chosen with probability equal to its
weight (the engine's ``mixture_component``); scoring and comparison use those draws."""

TARGET_LABELS = {
    "cum_deaths": "Deaths since the episode start, all actors",
    "cum_civilian_deaths": "Civilian deaths since the episode start",
    "displaced": "People currently displaced by the episode",
    "cum_displaced": "Displacement movements since the episode start",
    "cum_refugees": "People who crossed a border since the episode start",
}
"""What each target counts, in words (titles, table rows)."""
TARGET_SHORT = {"cum_deaths": "Deaths, all actors", "cum_civilian_deaths": "Civilian deaths",
                "displaced": "Currently displaced", "cum_displaced": "Displacement movements",
                "cum_refugees": "Border crossings"}
"""Short names of the targets (axis labels)."""
TARGET_PHRASES = {
    "cum_deaths": "deaths of all actors since the episode start",
    "cum_civilian_deaths": "civilian deaths since the episode start",
    "displaced": "the people currently displaced",
    "cum_displaced": "displacement movements since the episode start",
    "cum_refugees": "border crossings since the episode start",
}
"""What each target counts, as a phrase inside a sentence (the report's summary)."""
TARGET_PHRASES_SHORT = {"cum_deaths": "deaths", "cum_civilian_deaths": "civilian deaths",
                        "displaced": "the displaced", "cum_displaced": "displacement movements",
                        "cum_refugees": "border crossings"}
"""The same, in a word or two."""
