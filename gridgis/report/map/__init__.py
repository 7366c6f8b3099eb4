"""Interactive maps: folium elements, styles, the compact layer and browser assets."""
