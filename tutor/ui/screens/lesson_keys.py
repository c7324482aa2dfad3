"""The lesson screen's keys: what each does, as the footer and the help screen say it."""

from __future__ import annotations

from textual.binding import Binding, BindingType

LESSON_KEYS: list[BindingType] = [
    Binding("b", "build", "Build", tooltip="Build the exercise's Dockerfile on the engine, then run its checks"),
    Binding("c", "cancel_build", "Cancel", tooltip="Cancel the running build"),
    Binding("h", "hint", "Hint", tooltip="Show the next hint of the exercise"),
    Binding("o", "edit", "Edit", tooltip="Edit the exercise's files"),
    Binding(
        "t",
        "predict_build",
        "Predict",
        show=False,
        tooltip="Predict which steps come from the cache, then build and compare",
    ),
    Binding("S,shift+s", "solution", "Solution", key_display="S", show=False, tooltip="Show the hints so far and, once earned, the solution"),
    Binding("w", "toggle_watch", "Watch", tooltip="Watch mode: rebuild and check every time you save a file of the exercise in your own editor"),
    Binding("v", "toggle_view", "View", tooltip="Switch between the lesson and the build panes (narrow terminals)"),
    Binding("right_square_bracket", "next_lesson", "Next", key_display="]", tooltip="Next lesson"),
    Binding("left_square_bracket", "previous_lesson", "Previous", key_display="[", show=False, tooltip="Previous lesson"),
    Binding("greater_than_sign", "next_exercise", "Next exercise", key_display=">", show=False),
    Binding("less_than_sign", "previous_exercise", "Previous exercise", key_display="<", show=False),
    Binding(
        "r",
        "run_container",
        "Run",
        tooltip="Run the last built image as a container: docker run -d -p HOST:CONTAINER IMAGE (asks for the port mapping)",
    ),
    Binding("p", "probe", "Probe", show=False, tooltip="Ask the container's server for a page, as curl http://localhost:PORT/ would"),
    Binding("s", "stop_container", "Stop", show=False, tooltip="Stop the selected container (docker stop)"),
    Binding(
        "x",
        "remove_container",
        "Remove container",
        show=False,
        tooltip="Remove the selected container (docker rm; a running one only after asking, with -f)",
    ),
    Binding("i", "remove_image", "Remove image", show=False, tooltip="Remove the last built image (docker rmi), after asking"),
    Binding("e", "exec_in_container", "Exec", show=False, tooltip="Run one command inside the selected container (docker exec)"),
    Binding(
        "l",
        "layer_contents",
        "Layer contents",
        show=False,
        tooltip="Show the files the highlighted step's layer added, changed and removed, and the space it wastes",
    ),
    Binding(
        "z", "size_race", "Size race", show=False, tooltip="Compare the images you built in the course with the Go binary alone"
    ),
    Binding(
        "k",
        "remove_lesson_objects",
        "Remove lesson's objects",
        show=False,
        tooltip="Remove the containers and images this lesson's exercises asked you to make, by their names (asks first)",
    ),
    Binding("escape,m", "back", "Map", tooltip="Back to the course map"),
    Binding("1", "show_tab('lesson-text')", "Lesson text", show=False),
    Binding("2", "show_tab('dockerfile')", "Dockerfile", show=False),
    Binding("3", "show_tab('exercise')", "Exercise and checks", show=False),
    Binding("4", "show_tab('containers')", "Containers", show=False, tooltip="Show the Containers tab"),
]
