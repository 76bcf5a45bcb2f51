/** A user as the console's Users pages show them (the list, a user's page and the admin's changes). */
export interface UserView {
  login: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  hasPassword: boolean;
  canSignIn: boolean;
  resources: string[];
  tokens: { serial: string; resource: string; state: string }[];
}
