"""DDS-backend parameters: ROS 2 YAML files and ``-p`` overrides from ``--ros-args``, typed by the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig_transport import ParameterError
from rig_transport.dds_backend import DDSTransport
from rig_transport.parameters import load_parameter_file, parse_ros_args, resolve_parameters, user_values

PARAMS_YAML = """\
/**:
  ros__parameters:
    rate_hz: 10.0
    robot_id: shared
    camera:
      size: 84
/policy_node:
  ros__parameters:
    robot_id: sawyer_1
    noise_scales: [0.1, 0.2]
    learning_rate: 1e-3
/trainer_node:
  ros__parameters:
    robot_id: not_for_policy
"""
DEFAULTS = {
    "rate_hz": 5.0,
    "robot_id": "default",
    "camera.size": 48,
    "noise_scales": [0.0],
    "learning_rate": 0.1,
    "use_sim": False,
    "episode_steps": 50,
}


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "rig_params.yaml"
    path.write_text(PARAMS_YAML)
    return path


def test_yaml_wildcard_and_node_sections_then_command_line_overrides(params_file):
    argv = ["policy_node", "--ros-args", "--params-file", str(params_file), "-p", "use_sim:=true", "-p", "rate_hz:=20.5"]
    values = resolve_parameters(DEFAULTS, user_values(parse_ros_args(argv), "policy_node"))
    assert values == {
        "rate_hz": 20.5, "robot_id": "sawyer_1", "camera.size": 84, "noise_scales": [0.1, 0.2],
        "learning_rate": 0.001, "use_sim": True, "episode_steps": 50,
    }  # fmt: skip
    assert type(values["camera.size"]) is int and type(values["rate_hz"]) is float


def test_sections_of_other_nodes_do_not_apply(params_file):
    assert load_parameter_file(params_file, "trainer_node")["robot_id"] == "not_for_policy"
    assert load_parameter_file(params_file, "camera_node") == {"rate_hz": 10.0, "robot_id": "shared", "camera.size": 84}


def test_node_section_without_leading_slash(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("policy_node:\n  ros__parameters:\n    episode_steps: 7\n")
    assert load_parameter_file(path, "policy_node") == {"episode_steps": 7}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("episode_steps:=2.5", "'episode_steps' expects integer, got double 2.5"),
        ("rate_hz:=20", r"'rate_hz' expects double, got integer 20 \(write a double with a decimal point"),
        ("use_sim:=1", "'use_sim' expects bool, got integer 1"),
        ("robot_id:=7", "'robot_id' expects string, got integer 7"),
        ("noise_scales:=[1, 2]", "'noise_scales' expects double array, got integer array"),
        ("noise_scales:=[]", "'noise_scales' expects double array, got empty or mixed list"),
    ],
)
def test_a_wrong_type_from_the_user_is_a_clear_error(override, message):
    values = user_values(parse_ros_args(["--ros-args", "-p", override]), "policy_node")
    with pytest.raises(ParameterError, match=message):
        resolve_parameters(DEFAULTS, values)


def test_a_wrong_type_in_a_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("/**:\n  ros__parameters:\n    episode_steps: fifty\n")
    with pytest.raises(ParameterError, match="'episode_steps' expects integer, got string 'fifty'"):
        resolve_parameters(DEFAULTS, load_parameter_file(path, "any_node"))


@pytest.mark.parametrize("default", [None, [], [1, "a"], {"a": 1}, b"x"])
def test_defaults_must_define_a_type(default):
    with pytest.raises(ParameterError, match="does not define a type"):
        resolve_parameters({"p": default}, {})


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ros-args", "-p", "no_assignment"], "NAME:=VALUE"),
        (["--ros-args", "--params-file"], "needs a value"),
        (["--ros-args", "-r", "/chatter:=/other"], "unsupported remapping '/chatter:=/other'"),
        (["--ros-args", "-r", "__ns:=/robot1"], "unsupported remapping"),
        (["--ros-args", "--disable-rosout-logs"], "unsupported ROS argument '--disable-rosout-logs'"),
        (["--ros-args", "--enclave"], "--enclave needs a value"),
    ],
)
def test_malformed_ros_args_are_clear_errors(argv, message):
    with pytest.raises(ParameterError, match=message):
        parse_ros_args(argv)


def test_the_enclave_is_taken():
    assert parse_ros_args(["--ros-args", "--enclave", "/policy_node"]).enclave == "/policy_node"
    assert parse_ros_args(["--ros-args", "-e", "/x"]).enclave == "/x"
    assert parse_ros_args([]).enclave is None


def test_the_node_name_and_root_namespace_that_ros2_launch_passes_are_taken(params_file):
    argv = ["--ros-args", "-r", "__node:=renamed", "-r", "__ns:=/", "--params-file", str(params_file)]
    parsed = parse_ros_args(argv)
    assert parsed.node_name == "renamed" and parsed.params_files == [params_file]


def test_list_parameters_as_ros2_launch_writes_them_are_lists(tmp_path: Path):
    # launch_ros's temporary file for a Node's dict parameters: yaml.dump of tuples (gazebo_sawyer.launch.py)
    path = tmp_path / "launch_params_x"
    path.write_text("/sawyer_driver:\n  ros__parameters:\n    control.home: !!python/tuple\n    - 0.0\n    - -1.18\n"
                    "    robot_id: sawyer_gazebo\n")  # fmt: skip
    values = load_parameter_file(path, "sawyer_driver")
    assert values == {"control.home": [0.0, -1.18], "robot_id": "sawyer_gazebo"}
    assert resolve_parameters({"control.home": [1.0]}, values) == {"control.home": [0.0, -1.18]}


def test_only_ros_args_sections_are_read():
    parsed = parse_ros_args(
        ["-p", "x:=1", "--ros-args", "-p", "a:=1", "--", "-p", "b:=2", "--ros-args", "--log-level", "debug"]
    )
    assert parsed.overrides == {"a": 1}
    assert parsed.log_level == "debug"


def test_bad_files_are_clear_errors(tmp_path: Path):
    with pytest.raises(ParameterError, match="cannot read parameter file"):
        load_parameter_file(tmp_path / "missing.yaml", "n")
    path = tmp_path / "p.yaml"
    path.write_text("/**:\n  robot_id: x\n")
    with pytest.raises(ParameterError, match="must contain a 'ros__parameters' mapping"):
        load_parameter_file(path, "n")


def test_transport_declares_typed_parameters_and_warns_about_unknown_ones(params_file, caplog):
    transport = DDSTransport("policy_node", argv=["--ros-args", "--params-file", str(params_file), "-p", "typo_rate:=3"])
    try:
        assert transport.declare_parameters({"rate_hz": 1.0})["rate_hz"] == 10.0
        assert transport.declare_parameters({"episode_steps": 50}) == {"episode_steps": 50}
        transport.shutdown()  # before spinning: spin() then refuses to run
        with pytest.raises(RuntimeError, match="has been shut down"):
            transport.spin()
    finally:
        transport.shutdown()
    unknown_warning = DDSTransport("policy_node", argv=["--ros-args", "-p", "typo_rate:=3"])
    unknown_warning.create_timer(0.01, unknown_warning.shutdown)
    unknown_warning.spin()
    unknown_warning.shutdown()
    assert "ignoring parameters this node does not declare: typo_rate" in caplog.text
