# Right values, but the answer is the library function itself.
import jax

associative_scan = jax.lax.associative_scan
