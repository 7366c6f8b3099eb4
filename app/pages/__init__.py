"""The app's pages: scripts Streamlit runs (``app.py`` lists them in ``st.navigation``)."""
