"""The one route check, shared by the governance API and the admin form: every rule of a valid route.

`route_check` takes what a client sent (`RouteInput`, already type-checked) and returns the route
as it will be stored (`CleanRoute`), or raises `RouteInvalid` with messages keyed by the API's
field paths (`name`, `config.selectedModels`, `nodes[1].models`...). It reads, never writes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.text import slugify

from governance.models import Route, RouteNode
from governance.selectors.routes import Offer, provider_offers
from providers.models import Provider

MODES = tuple(Route.Mode.values)
STRATEGIES = tuple(RouteNode.Strategy.values)
MODEL_STRATEGIES = ("single", "cycle")
PROVIDER_MODE = re.compile(r"provider_(\d+)")
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


@dataclass(frozen=True, slots=True)
class NodeInput:
    provider_id: int
    models: tuple[str, ...] = ()
    strategy: str = RouteNode.Strategy.ROUND_ROBIN
    priority: int = 0
    id: int | None = None  # an existing node of the route, kept (node ids are stable)


@dataclass(frozen=True, slots=True)
class RouteInput:
    name: str
    mode: str
    slug: str = ""
    is_active: bool = True
    provider_mode: str = ""
    selected_models: tuple[str, ...] = ()
    model_strategy: str = ""
    nodes: tuple[NodeInput, ...] = ()
    extra_config: Mapping[str, Any] = field(default_factory=dict)  # other config keys, kept


@dataclass(frozen=True, slots=True)
class CleanNode:
    provider: Provider
    models: list[str]
    strategy: str
    priority: int
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CleanRoute:
    name: str
    slug: str
    mode: str
    is_active: bool
    config: dict[str, Any]
    provider: Provider | None  # auto mode, providerMode provider_<id>
    nodes: list[CleanNode]


class RouteInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def model_strategy_for(count: int) -> str:
    """The spec's automatic strategy: one model is `single` (fixed), two or more `cycle`."""
    return "" if count == 0 else "single" if count == 1 else "cycle"


class _Check:
    def __init__(self, data: RouteInput, route: Route | None) -> None:
        self.data, self.route = data, route
        self.errors: dict[str, list[str]] = defaultdict(list)
        ids = {n.provider_id for n in data.nodes}
        if match := PROVIDER_MODE.fullmatch(data.provider_mode.strip()):
            ids.add(int(match[1]))
        self.offers: dict[int, Offer] = provider_offers(provider_ids=ids)

    def error(self, path: str, message: str) -> None:
        self.errors[path].append(message)

    def models(self, path: str, models: tuple[str, ...], offers: list[Offer], whom: str) -> list[str]:
        """`models` as the registry spells them; each must be offered by one of `offers`."""
        if not models:
            self.error(path, "Tick at least one model.")
        seen: set[str] = set()
        clean = []
        for model in models:
            if model.strip().lower() in seen:
                self.error(path, f"'{model}' is ticked twice.")
                continue
            seen.add(model.strip().lower())
            spelled = next((s for o in offers if (s := o.canonical(model))), None)
            if spelled is None:
                self.error(path, f"'{model}' is not offered by {whom}.")
            clean.append(spelled or model)
        return clean

    def names(self) -> tuple[str, str]:
        name = self.data.name.strip()
        slug = self.data.slug.strip() or slugify(name)[:100]
        others = Route.objects.exclude(pk=self.route.pk) if self.route else Route.objects.all()
        if not name:
            self.error("name", "This field may not be blank.")
        elif "/" in name:
            self.error("name", "A route name cannot contain '/': clients send it as route/<name>.")
        elif others.filter(name__iexact=name).exists():
            self.error("name", f"A route named '{name}' already exists (names ignore case).")
        elif others.filter(slug__iexact=name).exists():
            self.error("name", f"'{name}' is another route's slug: route/{name} would be ambiguous.")
        if name and not slug:
            self.error("slug", "The name gives no slug: give one (letters, digits, '-' or '_').")
        elif slug and not SLUG.fullmatch(slug):
            self.error("slug", "Use letters, digits, '-' or '_'.")
        elif slug and others.filter(slug__iexact=slug).exists():
            self.error("slug", f"A route with slug '{slug}' already exists.")
        elif slug and slug.lower() != name.lower() and others.filter(name__iexact=slug).exists():
            self.error("slug", f"'{slug}' is another route's name: route/{slug} would be ambiguous.")
        return name, slug

    def nodes(self, nodes: tuple[NodeInput, ...]) -> list[CleanNode]:
        kept = {n.pk for n in self.route.nodes.all()} if self.route else set()
        clean = []
        for i, node in enumerate(nodes):
            at = f"nodes[{i}]"
            offer = self.offers.get(node.provider_id)
            if offer is None:
                self.error(f"{at}.apiId", f"Provider {node.provider_id} does not exist.")
            if node.strategy not in STRATEGIES:
                self.error(f"{at}.strategy", f"Use one of: {', '.join(STRATEGIES)}.")
            if node.priority < 0:
                self.error(f"{at}.priority", "Ensure this value is greater than or equal to 0.")
            if node.id is not None and node.id not in kept:
                self.error(f"{at}.id", f"Node {node.id} is not a node of this route.")
            if offer is None:
                continue
            whom = f"provider '{offer.provider.name}'"
            models = self.models(f"{at}.models", node.models, [offer], whom)
            clean.append(CleanNode(offer.provider, models, node.strategy, node.priority, node.id))
        return clean

    def auto(self, selected: tuple[str, ...]) -> tuple[Provider | None, str, list[str]]:
        mode = self.data.provider_mode.strip() or ("all" if selected else "")
        provider = None
        if mode == "all":
            offers = [o for o in provider_offers().values() if o.provider.active]
            whom = "any enabled provider"
        elif match := PROVIDER_MODE.fullmatch(mode):
            offer = self.offers.get(int(match[1]))
            if offer is None:
                self.error("config.providerMode", f"Provider {match[1]} does not exist.")
            offers, provider = ([offer], offer.provider) if offer else ([], None)
            whom = f"provider '{provider.name}'" if provider else "that provider"
        else:
            if mode:
                self.error("config.providerMode", "Use 'all' or 'provider_<id>' of an existing provider.")
            offers, whom = [], ""
        if not selected and (mode or not self.data.nodes):
            self.error("config.selectedModels", "Tick at least one model.")
            return provider, mode, []
        if not selected or not (mode == "all" or provider):
            return provider, mode, list(selected)
        return provider, mode, self.models("config.selectedModels", selected, offers, whom)

    def run(self) -> CleanRoute:
        data = self.data
        name, slug = self.names()
        selected, nodes = data.selected_models, data.nodes
        if data.mode not in MODES:
            self.error("mode", f"Use one of: {', '.join(MODES)}.")
        if data.mode != "auto" and data.provider_mode.strip():
            self.error("config.providerMode", "Only an auto route has a providerMode; "
                       "this route's providers are its nodes' apiId.")
        if data.mode == "specific" and len(nodes) == 1 and not nodes[0].models:
            nodes = (replace(nodes[0], models=selected),)  # the spec's form sends both, same list
        clean_nodes = self.nodes(nodes)
        provider, provider_mode, models = None, "", list(selected)
        if data.mode == "auto":
            provider, provider_mode, models = self.auto(selected)
        elif data.mode == "specific":
            if len(nodes) != 1:
                self.error("nodes", "A specific route needs exactly one provider node (nodes[].apiId).")
            elif selected and clean_nodes:
                whom = f"provider '{clean_nodes[0].provider.name}'"
                models = self.models("config.selectedModels", selected, [self.offers[nodes[0].provider_id]], whom)
        elif data.mode == "multi":
            if not nodes:
                self.error("nodes", "A multi route needs at least one provider node.")
            if selected:
                self.error("config.selectedModels", "A multi route takes its models from its nodes.")
        derived = model_strategy_for(len(models))
        asked = data.model_strategy.strip()
        if asked and asked not in MODEL_STRATEGIES:
            self.error("config.modelStrategy", "Use 'single' or 'cycle' (or leave it out: it is derived).")
        elif asked and asked != derived:
            count = f"{len(models)} selected model{'s' if len(models) != 1 else ''}"
            self.error("config.modelStrategy", f"With {count} the strategy is "
                       f"'{derived or 'none'}': 1 model is 'single', 2 or more 'cycle'.")
        if self.errors:
            raise RouteInvalid(dict(self.errors))
        config = dict(data.extra_config)
        if models:
            config.update(selectedModels=models, modelStrategy=derived)
            if data.mode == "auto":
                config["providerMode"] = provider_mode
        return CleanRoute(name, slug, data.mode, data.is_active, config, provider, clean_nodes)


def route_check(*, data: RouteInput, route: Route | None = None) -> CleanRoute:
    """Validate a whole route (as it will be after the write); raise RouteInvalid naming each field."""
    return _Check(data, route).run()


def route_input(route: Route) -> RouteInput:
    """A stored route as input again: node endpoints change one node and check the whole route."""
    config = dict(route.config or {})
    return RouteInput(
        name=route.name, mode=route.mode, slug=route.slug, is_active=route.is_active,
        provider_mode=str(config.pop("providerMode", "") or ""),
        selected_models=tuple(config.pop("selectedModels", None) or ()),
        model_strategy=str(config.pop("modelStrategy", "") or ""),
        nodes=tuple(NodeInput(n.provider_id, tuple(n.models), n.strategy, n.priority, n.pk)
                    for n in route.nodes.all()),
        extra_config=config,
    )
