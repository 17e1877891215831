# shellcheck shell=bash
# Sourced (not executed) by run-rabbitmq.sh and scripts/infra.sh.
#
# rabbitmq_env PORT DIST_PORT EPMD_PORT DATA_DIR
#   Exports the environment under which /usr/lib/rabbitmq/bin/rabbitmq-server
#   and rabbitmqctl see one private broker: its node name, ports, private
#   HOME/cookie and directories. Every rabbitmqctl call needs exactly this env.
#   (The management port is set in DATA_DIR/rabbitmq.conf by run-rabbitmq.sh.)
#   (The /usr/sbin wrappers are not used: they `su` to the rabbitmq user and
#   read another HOME and cookie.)
rabbitmq_env() {
  local port=$1 dist_port=$2 epmd_port=$3 dir=$4
  export HOME="$dir/home"                           # holds .erlang.cookie
  export RABBITMQ_NODENAME="modal-$port@localhost"  # unique per broker
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$port"
  export RABBITMQ_DIST_PORT="$dist_port"
  export ERL_EPMD_PORT="$epmd_port"                 # own epmd per broker
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_LOGS=-                            # main log to stdout
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
  # Without this file setting, /etc/rabbitmq/rabbitmq-env.conf is sourced.
  export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
  # Without inet_dist_use_interface the distribution port listens on all
  # interfaces. -start_epmd false: the VM must not spawn a daemonized epmd
  # (it would outlive the broker); run-rabbitmq.sh runs its own epmd.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
  # Same for the CLI tools (rabbitmqctl is itself an Erlang node).
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
}
