export function greet(name) {
  return "Hi " + name;
}
