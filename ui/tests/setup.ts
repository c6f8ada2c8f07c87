// jsdom has no layout: scrolling is a no-op there.
Element.prototype.scrollIntoView = function scrollIntoView() {};
